/** A keyed config hasher with a fixed, public key: for tests only, where no server key exists. */
import { keyedConfigHasher } from '../config-hasher.js';

export const TEST_HASH_KEY = Buffer.alloc(32, 0x5a);
export const testHasher = keyedConfigHasher(TEST_HASH_KEY);
