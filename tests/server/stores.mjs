// The grant stores the sender's tests run against: each { name, open() } resolves a fresh, empty GrantStore.
import { memoryGrantStoreForTests } from './memory-store.mjs';

export function storeFactories() {
  return [{ name: 'in-memory (test helper)', open: async () => memoryGrantStoreForTests() }];
}
