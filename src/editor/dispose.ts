// Disposable base class and helpers, after the VS Code custom editor sample's dispose.ts: every
// emitter and listener goes through `_register`, so nothing outlives its owner.
import type * as vscode from 'vscode';

/** Disposes every item, collecting (not throwing on) the first error until all are done. */
export function disposeAll(disposables: vscode.Disposable[]): void {
  let firstError: unknown;
  while (disposables.length) {
    const item = disposables.pop();
    try {
      item?.dispose();
    } catch (err) {
      firstError ??= err;
    }
  }
  if (firstError !== undefined) throw firstError;
}

/** Owns disposables; `dispose()` is idempotent and disposes late registrations at once. */
export abstract class Disposable {
  private isDisposedFlag = false;
  protected disposables: vscode.Disposable[] = [];

  /** Disposes everything registered; later calls do nothing. */
  public dispose(): void {
    if (this.isDisposedFlag) return;
    this.isDisposedFlag = true;
    disposeAll(this.disposables);
  }

  /** Registers a disposable with this owner (disposed at once if the owner is already disposed). */
  protected _register<T extends vscode.Disposable>(value: T): T {
    if (this.isDisposedFlag) value.dispose();
    else this.disposables.push(value);
    return value;
  }

  protected get isDisposed(): boolean {
    return this.isDisposedFlag;
  }
}
