/** Builds the web UI bundles (parley-messages.js, parley-widgets.js) into `outdir` (default `dist-ui`, relative to the repository root). */
export function buildUi(options?: { minify?: boolean; outdir?: string }): Promise<void>;
