/**
 * Copies the pinned Swagger UI files from node_modules/swagger-ui-dist into public/docs-assets/, which
 * wrangler serves as Workers static assets (wrangler.toml [assets]). They are not bundled into the worker:
 * swagger-ui-bundle.js alone is ~460 KiB gzip, beyond the worker's 250 KiB budget. wrangler runs this as
 * its build command (dev, deploy, the benchmark's dry run); the tests run it in their global setup.
 * Plain JavaScript, so it runs on whatever Node starts wrangler.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png'];
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DOCS_ASSETS_DIR = path.join(REPO_ROOT, 'public', 'docs-assets');

export async function copyDocsAssets() {
  const source = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  await fs.mkdir(DOCS_ASSETS_DIR, { recursive: true });
  for (const file of FILES) {
    await fs.copyFile(path.join(source, file), path.join(DOCS_ASSETS_DIR, file));
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await copyDocsAssets();
}
