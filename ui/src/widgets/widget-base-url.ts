/**
 * The server the widgets talk to: the origin of the script tag that loaded them (captured while
 * it runs), unless a widget says otherwise with a `server` attribute.
 */
export const scriptOrigin: string = (() => {
  const src = (document.currentScript as HTMLScriptElement | null)?.src;
  return src ? new URL(src).origin : location.origin;
})();
