// Builders of the pure rules' input for the groups unit tests: a person snapshot with sensible
// defaults (rural hukou, living in the hukou village), and a configuration with some settings changed.
import type { IsoDate } from '../../src/platform/dates.ts';
import type { Fact } from '../../src/modules/registry/index.ts';
import { DEFAULT_GROUPS_CONFIG, type GroupsConfig } from '../../src/modules/groups/groups.config.ts';
import type { PersonSnapshot } from '../../src/modules/groups/groups.rules.ts';

let sequence = 0;

/** A person with a fresh id. */
export function somebody(
  name: string,
  sex: 1 | 2,
  birthDate: IsoDate,
  facts: Fact[] = [],
  more: Partial<PersonSnapshot> = {},
): PersonSnapshot {
  sequence += 1;
  return {
    id: `person-${sequence}`,
    name,
    sex,
    birthDate,
    ruralHukou: true,
    livesInHukouVillage: true,
    facts,
    ...more,
  };
}

/** A fact as the rules read it: its kind, its period [from, to) and its data. */
export const fact = (kind: Fact['kind'], from: IsoDate, to: IsoDate | null = null, data: object = {}): Fact =>
  ({ kind, from, to, data }) as Fact;

export const withConfig = (changes: Partial<GroupsConfig>): GroupsConfig => ({
  ...DEFAULT_GROUPS_CONFIG,
  ...changes,
});

/**
 * The agreement tests' own reading of which spouse the rules see when several spouse links are in force:
 * a living spouse first, then the one whose death (or unrevoked declaration of death) came last, then the
 * lowest id. A marriage ends at a death, but the registry leaves the link open (a widow who remarried).
 */
export function spouseOrder(
  aFacts: readonly Fact[],
  aId: number,
  bFacts: readonly Fact[],
  bId: number,
): number {
  const died = (facts: readonly Fact[]) =>
    facts
      .filter((f) => f.kind === 'death' || (f.kind === 'declared_dead' && f.to === null))
      .map((f) => f.from)
      .sort()[0] ?? null;
  const a = died(aFacts);
  const b = died(bFacts);
  if (a === b) return aId - bId;
  if (a === null) return -1;
  if (b === null) return 1;
  return a > b ? -1 : 1;
}
