/**
 * docs/api.md cannot drift from the code: its submit-field table is rendered from the zod schema of the submit
 * body (through the OpenAPI document) and its error table from ERROR_STATUS and ERROR_DESCRIPTIONS. On a
 * failure, the expected text is the table to paste.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocument } from '../../src/http/openapi';
import { ERROR_CODES, ERROR_DESCRIPTIONS, ERROR_STATUS } from '../../src/platform/errors';

const API_MD = readFileSync(join(__dirname, '..', '..', 'docs', 'api.md'), 'utf8');

function block(name: string): string {
  const start = API_MD.indexOf(`<!-- ${name}:start -->\n`);
  const end = API_MD.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`docs/api.md has no ${name} block`);
  return API_MD.slice(start + `<!-- ${name}:start -->\n`.length, end);
}

type Schema = { type?: string; enum?: string[]; items?: Schema; description?: string };

function typeOf(schema: Schema): string {
  if (schema.enum) return schema.enum.map((v) => `\`${v}\``).join(' \\| ');
  if (schema.type === 'array' && schema.items) return `array of ${typeOf(schema.items)}`;
  return schema.type ?? 'any';
}

test('the submit field table is the zod schema of the submit body', () => {
  const body = (buildOpenApiDocument() as { components: { schemas: { SubmitRequest: { properties: Record<string, Schema>; required: string[] } } } }).components.schemas.SubmitRequest;
  const rows = Object.entries(body.properties).map(
    ([name, schema]) => `| \`${name}\` | ${typeOf(schema)} | ${body.required.includes(name) ? 'yes' : 'no'} | ${(schema.description ?? '').replace(/\|/g, '\\|')} |`,
  );
  expect(block('fields')).toBe(['| field | type | required | meaning |', '|---|---|---|---|', ...rows, ''].join('\n'));
});

test('the error table is every error code with its HTTP status and description, in code order', () => {
  const rows = ERROR_CODES.map((code) => `| \`${code}\` | ${ERROR_STATUS[code]} | ${ERROR_DESCRIPTIONS[code].replace(/\|/g, '\\|')} |`);
  expect(block('errors')).toBe(['| code | HTTP | when |', '|---|---|---|', ...rows, ''].join('\n'));
});
