// How a registry form shows a refusal: a field error from the server (`details[].path`, e.g.
// `idNumber` or `data.category`) goes next to its field; a stale version (409 CONFLICT) gets one clear
// message with a reload button; anything else shows above the form. On a phone the user taps save at
// the bottom of a long form: every refusal is scrolled into view, or it would be off screen.
// A message next to a field speaks of the field's value as it is: a field's error goes when the field
// changes (antd re-checks only fields with rules, and the server's errors sit mostly on fields
// without), and the errors of one refusal go when the next submit answers.
import { useEffect, useRef } from 'react';
import { Alert, Button, type FormInstance } from 'antd';
import { ApiError, describeDetail } from '../api.ts';
import { defineMessages, useT } from '../i18n.ts';

const messages = defineMessages(
  {
    stale: '此记录已被他人修改',
    staleHint:
      '您看到的是旧版本，保存会覆盖他人的修改，因此未保存。请重新加载后再修改（您未保存的修改将丢失）。',
    reload: '重新加载',
  },
  {
    stale: 'Someone else changed this record',
    staleHint:
      'You were looking at an older version, so nothing was saved (it would have overwritten their change). Reload, then make your change again (your unsaved edits will be lost).',
    reload: 'Reload',
  },
);

/**
 * Where a form scrolls its first error (antd `scrollToFirstError`, and after a server refusal): to
 * the middle of the screen, also when it is under the sticky header, where "if needed" sees it as
 * visible.
 */
export const FIRST_ERROR_SCROLL = { block: 'center', scrollMode: 'always' } as const;

/**
 * A ref for a message shown above a form: whenever `shown` changes to something (a new list of
 * messages, true), the element is scrolled into the middle of the screen.
 */
export function useScrolledIntoView(shown: unknown) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (shown === null || shown === undefined || shown === false) return;
    ref.current?.scrollIntoView({ block: 'center' });
  }, [shown]);
  return ref;
}

/** Whether a change (antd's `changedValues`, e.g. `{ data: { category: 4 } }`) touches the field `name`. */
export function changeTouches(changed: unknown, name: readonly (string | number)[]): boolean {
  let at: unknown = changed;
  for (const key of name) {
    // A change of a whole value above the field (a list replaced, a group reset) touches it too.
    if (typeof at !== 'object' || at === null) return true;
    if (!(String(key) in at)) return false;
    at = (at as Record<string, unknown>)[String(key)];
  }
  return true;
}

/**
 * Clears field errors: those of the fields a change touched (pass the form's `onValuesChange`
 * changed values), or every field's (no change: before a new submit, or a new refusal).
 */
export function clearFieldErrors(form: FormInstance, changed?: unknown): void {
  const stale = form
    .getFieldsError()
    .filter(
      (field) => field.errors.length > 0 && (changed === undefined || changeTouches(changed, field.name)),
    );
  if (stale.length) form.setFields(stale.map((field) => ({ name: field.name, errors: [] })));
}

/**
 * Puts the server's field errors on the form's fields (in place of any earlier refusal's) and
 * scrolls to the first of them; returns the messages about fields the form does not have (to show
 * above it). `fields` are the form's top-level names.
 */
export function showFieldErrors(
  form: FormInstance,
  error: ApiError,
  fields: readonly string[],
  /** A server field shown under another name, e.g. annualIncomeFen → annualIncome (typed in yuan). */
  aliases: Readonly<Record<string, string>> = {},
): string[] {
  const byField = new Map<string, { name: (string | number)[]; errors: string[] }>();
  const elsewhere: string[] = [];
  for (const detail of error.details) {
    const name: string[] = detail.path.split('.').filter(Boolean);
    const alias = name[0] ? aliases[name[0]] : undefined;
    if (alias) name[0] = alias;
    if (!name[0] || !fields.includes(name[0])) {
      // Not on this form: the message names the field, or it would be a reason about nothing.
      elsewhere.push(describeDetail(detail));
      continue;
    }
    const key = name.join('.');
    const entry = byField.get(key) ?? { name, errors: [] };
    entry.errors.push(detail.message);
    byField.set(key, entry);
  }
  clearFieldErrors(form);
  const first = byField.values().next();
  if (!first.done) {
    form.setFields([...byField.values()]);
    form.scrollToField(first.value.name, FIRST_ERROR_SCROLL);
  }
  if (!error.details.length) elsewhere.push(error.message);
  return [...new Set(elsewhere)];
}

/** Puts one message on one field (in place of any earlier refusal's) and scrolls to it. */
export function showFieldError(form: FormInstance, name: string, message: string): void {
  clearFieldErrors(form);
  form.setFields([{ name, errors: [message] }]);
  form.scrollToField(name, FIRST_ERROR_SCROLL);
}

/** The stale-version message, brought into view when it appears (the save button is far below it). */
export function StaleAlert({ onReload }: { onReload: () => void }) {
  const t = useT(messages);
  const ref = useScrolledIntoView(true);
  return (
    <div ref={ref}>
      <Alert
        type="warning"
        showIcon
        data-testid="stale-version"
        title={t('stale')}
        description={t('staleHint')}
        action={
          <Button size="small" onClick={onReload}>
            {t('reload')}
          </Button>
        }
        style={{ marginBottom: 12 }}
      />
    </div>
  );
}

export function isConflict(error: unknown): error is ApiError {
  return error instanceof ApiError && error.code === 'CONFLICT';
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
