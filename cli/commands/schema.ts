import { Command } from 'commander';

export function schemaCommand(): Command {
  return new Command('schema')
    .description("print goci.yaml's JSON Schema (the package ships it as lib/goci.schema.json)")
    .action(async () => {
      const { gociJsonSchemaText } = await import('../../spec/json-schema.js');
      process.stdout.write(gociJsonSchemaText());
    });
}
