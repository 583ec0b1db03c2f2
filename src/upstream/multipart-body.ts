/**
 * multipart/form-data bodies (RFC 7578) for adapter requests that upload files, e.g. OpenAI's image edits.
 * Built in memory as one Buffer: the bodies are bounded by the client's request size limit anyway.
 */
import type { FormPart } from '../adapter-kit/contract';

/** A built multipart body and its Content-Type (with the boundary). */
export interface MultipartBody {
  readonly contentType: string;
  readonly body: Buffer;
}

/** Field names and file names go into quoted header parameters: no quotes, CR or LF may reach the wire. */
function quoted(value: string): string {
  return value.replace(/["\r\n\\]/g, '_');
}

/** Builds the body of `parts` with a boundary from `boundaryBytes` (random, 16+ bytes). */
export function buildMultipartBody(parts: readonly FormPart[], boundaryBytes: Buffer): MultipartBody {
  const boundary = `----image-task-bridge-${boundaryBytes.toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(part.name)}"`;
    if ('data' in part) {
      head += `; filename="${quoted(part.filename)}"\r\nContent-Type: ${part.mimeType.replace(/[\r\n]/g, '')}\r\n\r\n`;
      chunks.push(Buffer.from(head, 'utf8'), Buffer.from(part.data.buffer, part.data.byteOffset, part.data.byteLength), Buffer.from('\r\n', 'utf8'));
    } else {
      chunks.push(Buffer.from(`${head}\r\n\r\n${part.value}\r\n`, 'utf8'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'utf8'));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
