/** Types for docs-assets.mjs (plain JavaScript so that wrangler's build command runs on any Node). */
export declare const DOCS_ASSETS_DIR: string;
export declare function copyDocsAssets(): Promise<void>;
