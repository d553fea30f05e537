/**
 * The admin key lives in sessionStorage only: gone when the tab closes, never in localStorage,
 * a cookie or the URL.
 */
const STORAGE_KEY = 'opentact-bridge.console.adminKey';

export function storedKey(): string | undefined {
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

export function storeKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
