// The signed-in user, shared by every page.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Me, Role } from "./api";

export interface Session {
  me: Me;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in page");
  return s;
}

export function hasRole(me: Me, ...roles: Role[]): boolean {
  return me.roles.some((r) => r === "admin" || roles.includes(r));
}
