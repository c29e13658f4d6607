// A village (村/居, 12-digit code) as a form field: type part of its name and choose among the villages
// within the user's region; a user whose home region is one village gets that village. The value is
// the code; a code set from outside is shown with its name and township.
import { useEffect, useRef, useState } from 'react';
import { Select } from 'antd';
import { isAbortError } from '../api.ts';
import { regionsApi, type RegionSummary } from '../regions.ts';
import { useAppState } from '../shell/app-state.tsx';

interface Option {
  value: string;
  label: string;
}

function optionOf(region: RegionSummary, township?: string): Option {
  return { value: region.code, label: township ? `${township} ${region.name}` : region.name };
}

export function VillageField({
  value,
  onChange,
  id,
  placeholder,
  disabled,
  'data-testid': testId,
}: {
  value?: string | null;
  onChange?: (code: string | null) => void;
  id?: string;
  placeholder?: string;
  disabled?: boolean;
  'data-testid'?: string;
}) {
  const { me, workingRegion } = useAppState();
  // Search within the working region when it lies inside the user's region, else the user's region.
  const within =
    workingRegion && me && workingRegion.code.startsWith(me.regionCode) ? workingRegion.code : me?.regionCode;
  const [options, setOptions] = useState<Option[]>([]);
  const [searching, setSearching] = useState(false);
  const pending = useRef<AbortController | null>(null);

  // The chosen village's name (with its township) for a value set from outside.
  useEffect(() => {
    if (!value || options.some((o) => o.value === value)) return;
    const controller = new AbortController();
    regionsApi
      .get(value, controller.signal)
      .then((detail) => setOptions((current) => [optionOf(detail, detail.path.at(-1)?.name), ...current]))
      .catch(() => setOptions((current) => [{ value, label: value }, ...current]));
    return () => controller.abort();
  }, [value, options]);

  const search = (text: string) => {
    pending.current?.abort();
    const q = text.trim();
    if (!q) return;
    const controller = new AbortController();
    pending.current = controller;
    setSearching(true);
    // A typed code is looked up; a name is searched (the results carry no township, so the code tells
    // two villages of one name apart).
    const found: Promise<Option[]> = /^\d{12}$/.test(q)
      ? regionsApi
          .get(q, controller.signal)
          .then((d) => (d.level === 'village' ? [optionOf(d, d.path.at(-1)?.name)] : []))
      : regionsApi
          .search(q, { within, limit: 30, signal: controller.signal })
          .then((items) =>
            items
              .filter((item) => item.level === 'village' && !item.validTo)
              .map((v) => ({ value: v.code, label: `${v.name} · ${v.code}` })),
          );
    found
      .then(setOptions)
      .catch((error: unknown) => {
        if (!isAbortError(error)) setOptions([]);
      })
      .finally(() => {
        if (pending.current === controller) setSearching(false);
      });
  };

  return (
    <Select<string>
      id={id}
      data-testid={testId}
      showSearch={{ filterOption: false, onSearch: search }}
      value={value ?? undefined}
      options={options}
      loading={searching}
      disabled={disabled}
      placeholder={placeholder}
      onChange={(code) => onChange?.(code ?? null)}
      allowClear
      style={{ width: '100%' }}
    />
  );
}
