// The signed-in session, shared by every page: loaded from GET /v1/session (the cookie is
// HttpOnly, so a refresh or a server restart keeps it), ended on sign-out or when the
// server says it expired.
import { createContext, useContext } from "react";
import type { Schemas } from "./api/client";

export type Session = Schemas["SessionInfo"];
export type Role = Session["role"];

const RANK: Record<Role, number> = { viewer: 0, admin: 1, owner: 2 };

/** True when `role` may do what `needed` may. */
export function atLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export interface SessionState {
  session: Session;
  signOut: () => Promise<void>;
  refresh: () => Promise<void>;
}

export const SessionContext = createContext<SessionState | null>(null);

/** The signed-in session (pages render only inside a signed-in app). */
export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in app");
  return s;
}
