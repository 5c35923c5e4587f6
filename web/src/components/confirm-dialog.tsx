/**
 * A modal confirmation: `open()` shows it; Confirm runs the action and closes; Cancel or Escape
 * closes without doing anything. Focus goes into the dialog and back to the opener (native
 * `<dialog>` behaviour).
 */
import type { ComponentChildren, Ref } from 'preact';

export function ConfirmDialog({
  dialogRef,
  id,
  title,
  confirm,
  danger,
  onConfirm,
  children,
}: {
  dialogRef: Ref<HTMLDialogElement>;
  id: string;
  title: string;
  confirm: string;
  danger?: boolean;
  onConfirm: () => void;
  children: ComponentChildren;
}) {
  return (
    <dialog ref={dialogRef} aria-labelledby={`${id}-title`} data-testid={id}>
      <form method="dialog" onSubmit={() => onConfirm()}>
        <h2 id={`${id}-title`}>{title}</h2>
        {children}
        <div class="actions">
          <button type="submit" class={danger ? 'danger' : undefined}>
            {confirm}
          </button>
          <button
            type="button"
            onClick={(e) => (e.currentTarget.closest('dialog') as HTMLDialogElement).close()}
          >
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
