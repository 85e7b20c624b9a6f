/**
 * The Content-Security-Policy of the renderer, one definition for the desktop app's protocol and the
 * browser-mode server. Nothing remote: scripts, styles, fonts and workers come from the app itself.
 * Monaco's ESM build needs no eval; it starts its workers from blob: URLs that import from 'self', and
 * injects <style> elements at run time, hence style-src 'unsafe-inline' (styles cannot run code).
 * The built page carries the same policy in a <meta> tag (vite.config.ts), so that the page is as strict
 * wherever it is opened from; a <meta> policy cannot say frame-ancestors, which the header does.
 */
export function rendererCsp(opts: { connect?: string[]; meta?: boolean } = {}): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'none'"],
    'script-src': ["'self'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'", 'data:'],
    'worker-src': ["'self'", 'blob:'],
    'connect-src': ["'self'", ...(opts.connect ?? [])],
    'manifest-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-src': ["'none'"],
    ...(opts.meta ? {} : { 'frame-ancestors': ["'none'"] }),
  };
  return Object.entries(directives).map(([k, v]) => `${k} ${v.join(' ')}`).join('; ');
}

/** Headers every renderer response carries, in either mode. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}
