"""cosign's encrypted private key format, written with PyNaCl and hashlib: not goci's code.

  nacl-key.py seal TYPE N DER PEM   seal the PKCS#8 DER file into PEM (block TYPE, scrypt cost N)
  nacl-key.py open PEM DER          open PEM into the PKCS#8 DER file

The password is the environment variable KEY_PASSWORD.
"""
import base64
import hashlib
import json
import os
import re
import sys

import nacl.secret
import nacl.utils


def derived(password, salt, cost):
    return hashlib.scrypt(password.encode(), salt=salt, n=cost, r=8, p=1, maxmem=256 << 20, dklen=32)


def seal(block, cost, der_path, pem_path):
    salt = nacl.utils.random(32)
    box = nacl.secret.SecretBox(derived(os.environ["KEY_PASSWORD"], salt, cost))
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    with open(der_path, "rb") as source:
        sealed = box.encrypt(source.read(), nonce).ciphertext
    document = {
        "kdf": {"name": "scrypt", "params": {"N": cost, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    body = base64.b64encode(json.dumps(document).encode()).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    with open(pem_path, "w") as target:
        target.write("\n".join([f"-----BEGIN {block}-----", *lines, f"-----END {block}-----", ""]))


def open_key(pem_path, der_path):
    with open(pem_path) as source:
        body = re.search(r"-----BEGIN [A-Z ]+-----\n(.*?)-----END", source.read(), re.S).group(1)
    document = json.loads(base64.b64decode(body))
    kdf = document["kdf"]
    key = derived(os.environ["KEY_PASSWORD"], base64.b64decode(kdf["salt"]), kdf["params"]["N"])
    nonce = base64.b64decode(document["cipher"]["nonce"])
    opened = nacl.secret.SecretBox(key).decrypt(base64.b64decode(document["ciphertext"]), nonce)
    with open(der_path, "wb") as target:
        target.write(opened)


if __name__ == "__main__":
    if sys.argv[1] == "seal":
        seal(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    else:
        open_key(sys.argv[2], sys.argv[3])
