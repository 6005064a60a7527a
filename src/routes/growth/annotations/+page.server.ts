import { error, fail, type RequestEvent } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import {
  AnnotationError,
  annotationStore,
  LABEL_MAX,
  NOTE_MAX,
  validateAnnotation,
  type FieldErrors
} from '$lib/server/annotations';

/** Only signed-in staff may see or change annotations; undefined (no sign-in hook) is not staff here. */
function requireStaff(locals: App.Locals): string {
  if (locals.staff !== true) error(403, 'Staff only: sign in with a staff account to edit annotations.');
  return locals.user?.acct ?? 'staff';
}

export const load: PageServerLoad = async ({ locals }) => {
  requireStaff(locals);
  try {
    return { annotations: await annotationStore().list(), problem: null, limits: { LABEL_MAX, NOTE_MAX } };
  } catch (err) {
    const problem = err instanceof AnnotationError ? err.message : 'The annotations file cannot be read.';
    return { annotations: [], problem, limits: { LABEL_MAX, NOTE_MAX } };
  }
};

type Kind = 'add' | 'edit' | 'delete';

async function fields(request: Request) {
  const f = await request.formData();
  const s = (k: string) => {
    const v = f.get(k);
    return typeof v === 'string' ? v : '';
  };
  return {
    id: s('id'),
    seen: s('seen'),
    start: s('start'),
    end: s('end'),
    label: s('label'),
    note: s('note')
  };
}

/** A form's id field: a positive integer, or null. */
function idOf(raw: string): number | null {
  const id = /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
  return id > 0 ? id : null;
}

type Values = { start: string; end: string; label: string; note: string };

function failed(err: unknown, action: Kind, id: number | null, values: Values | null) {
  if (err instanceof AnnotationError)
    return fail(err.status, { action, id, errors: { form: err.message } as FieldErrors, values });
  throw err;
}

async function change(event: RequestEvent, action: Kind) {
  const by = requireStaff(event.locals);
  const f = await fields(event.request);
  const id = action === 'add' ? null : idOf(f.id);
  if (action !== 'add' && id === null)
    return fail(400, {
      action,
      id: null,
      errors: { form: 'Which annotation? (missing id)' } as FieldErrors,
      values: null
    });
  const values: Values = { start: f.start, end: f.end, label: f.label, note: f.note };
  const store = annotationStore();
  try {
    if (action === 'delete') {
      await store.remove(id as number);
      return { done: action, id };
    }
    const v = validateAnnotation(values);
    if (!v.ok) return fail(400, { action, id, errors: v.errors, values });
    const a =
      action === 'add'
        ? await store.add(v.value, by)
        : await store.update(id as number, v.value, by, f.seen || undefined);
    return { done: action, id: a.id };
  } catch (err) {
    return failed(err, action, id, values);
  }
}

export const actions: Actions = {
  add: (event) => change(event, 'add'),
  edit: (event) => change(event, 'edit'),
  delete: (event) => change(event, 'delete')
};
