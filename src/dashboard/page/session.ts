/** The API key the user pasted, kept in localStorage (this browser only). */
const STORAGE_KEY = 'trainyard.apiKey';

export function storedKey(): string | null {
  return localStorage.getItem(STORAGE_KEY);
}

export function storeKey(key: string): void {
  localStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  localStorage.removeItem(STORAGE_KEY);
}
