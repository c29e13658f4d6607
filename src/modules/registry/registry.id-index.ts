// A compact map from valid ID numbers to a row number, for the within-file checks of an import: a
// million ID numbers as JavaScript strings in a Map take over 100 MB; packed into typed arrays
// (17 digits and the check character in two 32-bit words, open addressing) they take 24 MB.

const EMPTY = 0;

/** The 18-character ID number as two words: digits 1-8 with the check character, digits 9-17. */
function pack(idNumber: string): [number, number] | null {
  if (!/^\d{17}[\dX]$/.test(idNumber)) return null;
  const check = idNumber.charAt(17) === 'X' ? 10 : Number(idNumber.charAt(17));
  const high = Number(idNumber.slice(0, 8)) + check * 100_000_000; // < 1.1e9 < 2^32
  const low = Number(idNumber.slice(8, 17)); // < 1e9 < 2^32
  return [high, low];
}

function hash(high: number, low: number): number {
  let h = Math.imul(high ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(low, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x27d4eb2f);
  return (h ^ (h >>> 13)) >>> 0;
}

/** ID number -> a positive integer (the first row it appeared on). Keys must be valid ID numbers. */
export class IdNumberIndex {
  #highs: Uint32Array;
  #lows: Uint32Array;
  #values: Uint32Array;
  #size = 0;

  constructor(capacity = 1024) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#highs = new Uint32Array(slots);
    this.#lows = new Uint32Array(slots);
    this.#values = new Uint32Array(slots);
  }

  get size(): number {
    return this.#size;
  }

  /** The slot of the key: where it is, or the empty slot where it would go. */
  #slot(high: number, low: number): number {
    const mask = this.#values.length - 1;
    let i = hash(high, low) & mask;
    while (this.#values[i] !== EMPTY && (this.#highs[i] !== high || this.#lows[i] !== low))
      i = (i + 1) & mask;
    return i;
  }

  get(idNumber: string): number | undefined {
    const packed = pack(idNumber);
    if (!packed) return undefined;
    const value = this.#values[this.#slot(packed[0], packed[1])];
    return value === EMPTY ? undefined : value;
  }

  /** Sets the value of an ID number; value is a positive integer below 2^32. */
  set(idNumber: string, value: number): void {
    const packed = pack(idNumber);
    if (!packed) throw new RangeError(`not a valid ID number: ${idNumber}`);
    if (!Number.isInteger(value) || value <= 0 || value >= 2 ** 32)
      throw new RangeError(`value out of range: ${value}`);
    let i = this.#slot(packed[0], packed[1]);
    if (this.#values[i] === EMPTY) {
      if ((this.#size + 1) * 2 > this.#values.length) {
        this.#grow();
        i = this.#slot(packed[0], packed[1]);
      }
      this.#size += 1;
      this.#highs[i] = packed[0];
      this.#lows[i] = packed[1];
    }
    this.#values[i] = value;
  }

  #grow(): void {
    const [highs, lows, values] = [this.#highs, this.#lows, this.#values];
    this.#highs = new Uint32Array(values.length * 2);
    this.#lows = new Uint32Array(values.length * 2);
    this.#values = new Uint32Array(values.length * 2);
    for (let j = 0; j < values.length; j++) {
      if (values[j] === EMPTY) continue;
      const i = this.#slot(highs[j]!, lows[j]!);
      this.#highs[i] = highs[j]!;
      this.#lows[i] = lows[j]!;
      this.#values[i] = values[j]!;
    }
  }
}
