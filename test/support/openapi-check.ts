/**
 * Checks real HTTP exchanges against the OpenAPI document: the operation and status must be declared, and the
 * body must validate (ajv, JSON Schema 2020-12, which is what OpenAPI 3.1 schemas are) against the schema
 * the document gives for that status and content type. Also validates request bodies against the document.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

type Json = Record<string, unknown>;
const ID = 'https://image-task-bridge.test/openapi.json';

const pointer = (...parts: string[]): string => parts.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** Validates exchanges against one document. */
export class OpenApiChecker {
  private readonly ajv: Ajv2020;
  /** Every (method path status) a check met, for coverage assertions. */
  readonly seen = new Set<string>();

  constructor(private readonly doc: Json) {
    // strict: false because the document's own keywords (openapi, paths, ...) surround the schemas.
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addFormat('binary', true);
    this.ajv.addSchema({ ...doc, $id: ID });
  }

  /** The document path template matching a concrete path, e.g. /v1/images/tasks/{task_id}. */
  template(path: string): string {
    const paths = Object.keys(this.doc.paths as Json);
    const found = paths.find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`).test(path));
    if (!found) throw new Error(`the document has no path for ${path}`);
    return found;
  }

  private validate(ptr: string, value: unknown, what: string): void {
    const validate = this.ajv.getSchema(`${ID}#${ptr}`);
    if (!validate) throw new Error(`the document has no schema at ${ptr} (${what})`);
    if (!validate(value)) throw new Error(`${what} does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 600)}`);
  }

  /** Throws unless `body` is what the document says `method path` answers with `status` and `contentType`. */
  response(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
    const template = this.template(path.split('?')[0] as string);
    const operation = (this.doc.paths as Record<string, Record<string, Json>>)[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`the document has no operation ${method} ${template}`);
    const responses = operation.responses as Record<string, Json>;
    if (!responses[String(status)]) throw new Error(`${method} ${template} answered ${status}, which the document does not declare (${Object.keys(responses).join(', ')})`);
    const media = (contentType ?? '').split(';')[0]?.trim() ?? '';
    const content = responses[String(status)]?.content as Json | undefined;
    if (!content?.[media]) throw new Error(`${method} ${template} ${status}: content type ${media} is not declared`);
    this.validate(pointer('paths', template, method.toLowerCase(), 'responses', String(status), 'content', media, 'schema'), body, `${method} ${path} ${status}`);
    this.seen.add(`${method} ${template} ${status}`);
  }

  /** Throws unless `body` is a valid request body of `method path` in `media`. */
  request(method: string, path: string, media: string, body: unknown): void {
    this.validate(pointer('paths', this.template(path), method.toLowerCase(), 'requestBody', 'content', media, 'schema'), body, `request ${method} ${path}`);
  }
}

/** The verdict of @seriousme/openapi-schema-validator on each of `docs` (ESM only, so it runs in one child node process). */
export function validateOpenApiDocuments(docs: readonly Json[]): Promise<Array<{ valid: boolean; version?: string; errors?: unknown }>> {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const results = [];
    for (const doc of JSON.parse(text)) {
      const validator = new Validator();
      const res = await validator.validate(doc);
      results.push({ valid: res.valid, version: validator.version, errors: res.errors });
    }
    process.stdout.write(JSON.stringify(results));
  `;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: join(__dirname, '..', '..'), timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`the validator failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as Array<{ valid: boolean; version?: string; errors?: unknown }>);
    });
    child.stdin?.end(JSON.stringify(docs));
  });
}
