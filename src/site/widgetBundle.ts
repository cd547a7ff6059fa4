import { build } from "esbuild";
import { fileURLToPath } from "node:url";

/** The widget's entry point (src/widget). */
export const WIDGET_ENTRY = fileURLToPath(new URL("../widget/twei-widget.ts", import.meta.url));

/**
 * Bundles the widget with esbuild (ES module, minified): one file a site serves and loads with
 * one script tag.
 *
 * @example
 * const js = await buildWidget(); res.type("text/javascript").send(js)
 */
export async function buildWidget(): Promise<string> {
  const result = await build({
    entryPoints: [WIDGET_ENTRY],
    bundle: true,
    format: "esm",
    minify: true,
    target: "es2022",
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error("esbuild produced no widget bundle");
  return file.text;
}
