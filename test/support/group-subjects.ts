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

export const withConfig = (changes: Partial<GroupsConfig>): GroupsConfig => ({
  ...DEFAULT_GROUPS_CONFIG,
  ...changes,
});
