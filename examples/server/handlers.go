package main

import (
	"encoding/json"
	"net/http"
	"runtime"
	"runtime/debug"
)

// build is what /version reports.
type build struct {
	Version   string            `json:"version"`
	Commit    string            `json:"commit"`
	Date      string            `json:"date"`
	GoVersion string            `json:"goVersion"`
	Platform  string            `json:"platform"`
	Module    string            `json:"module,omitempty"`
	Settings  map[string]string `json:"settings,omitempty"`
}

func currentBuild() build {
	b := build{
		Version:   version,
		Commit:    commit,
		Date:      date,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		b.Module = info.Main.Path
		b.Settings = make(map[string]string, len(info.Settings))
		for _, s := range info.Settings {
			b.Settings[s.Key] = s.Value
		}
	}
	return b
}

func newMux(b build) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(b)
	})
	return mux
}
