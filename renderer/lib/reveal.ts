/**
 * Where focus and scrolling go after a command changes the notebook's cells: React renders the change
 * first, so these act on the next frame. In a test without a DOM they do nothing.
 */

const hasDom = () => typeof document !== 'undefined' && typeof requestAnimationFrame !== 'undefined';

function afterRender(fn: () => void): void {
  if (hasDom()) requestAnimationFrame(fn);
}

export function cellElement(cellId: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-cell-id="${CSS.escape(cellId)}"]`);
}

/** The element with focus when it lies inside the cell, else null (checked before the cell changes). */
export function focusInside(cellId: string): HTMLElement | null {
  if (!hasDom()) return null;
  const active = document.activeElement as HTMLElement | null;
  return active && active !== document.body && active.closest(`[data-cell-id="${CSS.escape(cellId)}"]`) ? active : null;
}

/**
 * A cell moved: scrolled into view, and the element that had focus in it given it back (React moves a
 * cell's nodes to reorder them, and a moved node loses focus).
 */
export function revealMovedCell(cellId: string, hadFocus: HTMLElement | null): void {
  afterRender(() => {
    const el = cellElement(cellId);
    if (!el) return;
    if (hadFocus?.isConnected && document.activeElement !== hadFocus) hadFocus.focus({ preventScroll: true });
    el.scrollIntoView({ block: 'nearest' });
  });
}

/**
 * A cell was deleted: focus goes to the cell that took its place (else the one above it, else the
 * empty notebook's add bar) instead of falling to <body>, when it was in the deleted cell or nowhere.
 */
export function focusAfterDelete(nextCellId: string | null, hadFocus: boolean): void {
  afterRender(() => {
    if (!hadFocus && document.activeElement && document.activeElement !== document.body) return;
    const el = nextCellId ? cellElement(nextCellId) : document.querySelector<HTMLElement>('.notebook .add-btn');
    el?.focus({ preventScroll: true });
    el?.scrollIntoView({ block: 'nearest' });
  });
}

/** Another experiment is shown: it starts at its top, not where the last one was scrolled to. */
export function scrollNotebookToTop(): void {
  afterRender(() => document.querySelector('.app-main')?.scrollTo({ top: 0 }));
}
