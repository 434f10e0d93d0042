// zod's core namespace without `locales` (see zod.ts).
export * from '../../../node_modules/zod/v4/core/index.js';
export const locales = undefined;
