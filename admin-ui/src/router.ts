// A small history router for the portal's pages under /admin/ (the server answers every
// /admin/... path with index.html, so a refreshed deep link lands here).
import { useEffect, useState } from "react";

export const BASE = "/admin";

/** The current page path below /admin, e.g. "/keys" ("/" for the dashboard). */
export function currentPath(): string {
  const p = window.location.pathname;
  const rest = p.startsWith(BASE) ? p.slice(BASE.length) : p;
  return rest === "" ? "/" : rest;
}

/** Goes to a portal page without a reload. */
export function navigate(path: string): void {
  window.history.pushState(null, "", BASE + path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** Re-renders on navigation; returns the current page path. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const on = () => setPath(currentPath());
    window.addEventListener("popstate", on);
    return () => window.removeEventListener("popstate", on);
  }, []);
  return path;
}
