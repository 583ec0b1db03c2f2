/** BLOB_*, S3_* and PUBLIC_BASE_URL: what the loader makes of them, and each refusal's one line. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BLOB_URL_TTL_MS, loadConfig } from '../../src/config/config';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect((err as Error).name).toBe('ConfigError');
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

test('BLOB_STORE=s3 reads the S3_* variables; path-style is the default with an endpoint', () => {
  expect(
    loadConfig({
      BLOB_STORE: 'S3',
      S3_BUCKET: 'itb-results',
      S3_REGION: 'eu-central-1',
      S3_ENDPOINT: 'https://minio.internal:9000/',
      S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      S3_SECRET_ACCESS_KEY: 'secret-example',
      S3_KEY_PREFIX: 'bridge/results/',
    }).blobs,
  ).toStrictEqual({
    store: 's3',
    dir: join(tmpdir(), 'image-task-bridge-blobs'),
    s3: {
      bucket: 'itb-results',
      region: 'eu-central-1',
      endpoint: 'https://minio.internal:9000',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example' },
      forcePathStyle: true,
      keyPrefix: 'bridge/results/',
    },
    urlTtlMs: DEFAULT_BLOB_URL_TTL_MS,
  });
});

test('BLOB_STORE=s3 on AWS: default region, virtual-hosted style, the SDK default credentials', () => {
  expect(loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'itb-results', S3_FORCE_PATH_STYLE: 'false' }).blobs.s3).toStrictEqual({
    bucket: 'itb-results',
    region: 'us-east-1',
    forcePathStyle: false,
    keyPrefix: '',
  });
});

test.each([
  [{ BLOB_STORE: 'gcs' }, 'BLOB_STORE must be fs or s3; got "gcs".'],
  [{ S3_BUCKET: 'itb-results' }, 'S3_BUCKET is set but BLOB_STORE is fs; set BLOB_STORE=s3 to use S3, or remove the S3_* variables.'],
  [{ BLOB_STORE: 's3' }, 'S3_BUCKET is required when BLOB_STORE=s3.'],
  [{ BLOB_STORE: 's3', S3_BUCKET: 'Bad_Bucket' }, 'S3_BUCKET must be a bucket name (3-63 characters of a-z 0-9 . -); got "Bad_Bucket".'],
  [{ BLOB_STORE: 's3', S3_BUCKET: 'itb', BLOB_DIR: '/tmp/x' }, 'BLOB_DIR is set but BLOB_STORE is s3; remove BLOB_DIR, or set BLOB_STORE=fs.'],
  [{ BLOB_STORE: 's3', S3_BUCKET: 'itb', S3_ACCESS_KEY_ID: 'AKIA' }, 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither for the AWS SDK default credentials.'],
  [{ BLOB_STORE: 's3', S3_BUCKET: 'itb', S3_ENDPOINT: 'ftp://x' }, 'S3_ENDPOINT must use http: or https:; got ftp:.'],
  [{ BLOB_STORE: 's3', S3_BUCKET: 'itb', S3_FORCE_PATH_STYLE: 'yes' }, 'S3_FORCE_PATH_STYLE must be true or false; got "yes".'],
  [{ BLOB_STORE: 's3', S3_BUCKET: 'itb', S3_KEY_PREFIX: 'a b' }, "S3_KEY_PREFIX must be at most 200 characters of A-Z a-z 0-9 ! _ . * ' ( ) / -."],
  [{ BLOB_URL_SECRET: 'short' }, 'BLOB_URL_SECRET must be at least 32 characters (e.g. openssl rand -base64 32).'],
  [{ BLOB_URL_TTL_MS: '60000' }, 'BLOB_URL_TTL_MS is set but BLOB_URL_SECRET is not: unsigned blob URLs do not expire; set BLOB_URL_SECRET too, or remove BLOB_URL_TTL_MS.'],
  [{ BLOB_URL_SECRET: 'x'.repeat(32), BLOB_URL_TTL_MS: '999' }, 'BLOB_URL_TTL_MS must be at least 1000; got 999.'],
  [{ PUBLIC_BASE_URL: 'images.example.com' }, 'PUBLIC_BASE_URL is not a valid URL.'],
  [{ PUBLIC_BASE_URL: 'https://images.example.com/?a=1' }, 'PUBLIC_BASE_URL must be a plain base URL (scheme, host, optional path), without query, fragment or credentials.'],
  [{ PUBLIC_BASE_URL: 'https://user:pw@images.example.com' }, 'PUBLIC_BASE_URL must be a plain base URL (scheme, host, optional path), without query, fragment or credentials.'],
])('%j is refused: %s', (env, message) => {
  expect(configError(env)).toBe(message);
});
