import { describe, expect, it } from 'vitest';
import { ENTITY_TYPES, RELATIONSHIP_TYPES, SCO_TYPES, SDO_TYPES, TLP_LEVELS, TLP_MARKING_IDS, tlpFromMarkingRefs } from './model.js';

const TLP1 = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
};

describe('TLP markings', () => {
  it('uses the OASIS TLP 2.0 marking-definition ids', () => {
    expect(TLP_MARKING_IDS).toEqual({
      clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
      green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
      amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
      'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
      red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
    });
  });

  it.each(TLP_LEVELS.map((tlp) => [TLP_MARKING_IDS[tlp], tlp]))('reads TLP 2.0 %s as %s', (id, tlp) => {
    expect(tlpFromMarkingRefs([id])).toBe(tlp);
  });

  it.each([
    [TLP1.white, 'clear'],
    [TLP1.green, 'green'],
    [TLP1.amber, 'amber'],
    [TLP1.red, 'red'],
    ['marking-definition--826578e1-40ad-459f-bc73-ede076f81f37', 'amber+strict'],
  ])('reads the STIX 2.1 TLP 1.0 (or OpenCTI) id %s as %s', (id, tlp) => {
    expect(tlpFromMarkingRefs([id])).toBe(tlp);
  });

  it('takes the most restrictive level when several are present', () => {
    expect(tlpFromMarkingRefs([TLP1.green, TLP_MARKING_IDS.red, TLP_MARKING_IDS.amber])).toBe('red');
    expect(tlpFromMarkingRefs([TLP_MARKING_IDS['amber+strict'], TLP1.amber])).toBe('amber+strict');
  });

  it('gives null when no ref is a TLP marking, or refs is not a list', () => {
    expect(tlpFromMarkingRefs(['marking-definition--11111111-1111-4111-8111-111111111111'])).toBeNull();
    expect(tlpFromMarkingRefs([])).toBeNull();
    expect(tlpFromMarkingRefs(undefined)).toBeNull();
    expect(tlpFromMarkingRefs(TLP1.red)).toBeNull();
    expect(tlpFromMarkingRefs([42, null, { id: TLP1.red }])).toBeNull();
  });

  it('reads TLP markings a bundle defines under its own ids when given them', () => {
    const own = 'marking-definition--22222222-2222-4222-8222-222222222222';
    expect(tlpFromMarkingRefs([own], new Map([[own, 'amber' as const]]))).toBe('amber');
  });
});

describe('vocabulary', () => {
  it('lists every entity type once, observables first', () => {
    expect(ENTITY_TYPES).toEqual([...SCO_TYPES, ...SDO_TYPES]);
    expect(new Set(ENTITY_TYPES).size).toBe(ENTITY_TYPES.length);
  });

  it('spells relationship types as STIX does: lower-case, hyphenated, unique', () => {
    expect(new Set(RELATIONSHIP_TYPES).size).toBe(RELATIONSHIP_TYPES.length);
    for (const type of RELATIONSHIP_TYPES) expect(type).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });
});
