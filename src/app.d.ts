// See https://svelte.dev/docs/kit/types#app.d.ts
import type { SessionUser } from '$lib/server/auth/session';

declare global {
  namespace App {
    // interface Error {}
    interface Locals {
      /** The signed-in person (hooks.server.ts, from the session cookie); null when signed out. */
      user?: SessionUser | null;
      /**
       * True for signed-in staff. Pages treat undefined (no sign-in hook installed) as staff; see isStaff in
       * src/lib/server/queries/page.ts. Staff-only metrics (registry `staffOnly`) check this.
       */
      staff?: boolean;
      session?: { sid: string; exp: number } | null;
    }
    // interface PageData {}
    // interface PageState {}
    // interface Platform {}
  }
}

export {};
