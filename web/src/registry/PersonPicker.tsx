// A person as a form field: type a name, pinyin, the last 6 of the ID number or a phone, and choose
// among the persons in the user's region (GET /persons). The value is the person's id.
import { useRef, useState } from 'react';
import { Select } from 'antd';
import { isAbortError } from '../api.ts';
import { personsApi } from './persons.ts';

interface Option {
  value: number;
  label: string;
}

export function PersonPicker({
  value,
  onChange,
  id,
  placeholder,
  exclude,
  'data-testid': testId,
}: {
  value?: number | null;
  onChange?: (id: number | null) => void;
  id?: string;
  placeholder?: string;
  /** A person who may not be chosen (the person being edited). */
  exclude?: number;
  'data-testid'?: string;
}) {
  const [options, setOptions] = useState<Option[]>([]);
  const [searching, setSearching] = useState(false);
  const pending = useRef<AbortController | null>(null);

  const search = (text: string) => {
    pending.current?.abort();
    const q = text.trim();
    if (!q) return;
    const controller = new AbortController();
    pending.current = controller;
    setSearching(true);
    personsApi
      .list({ q }, controller.signal)
      .then((page) =>
        setOptions(
          page.items
            .filter((p) => p.id !== exclude)
            .map((p) => ({
              value: p.id,
              label: [p.name, p.birthDate, p.idNumber].filter(Boolean).join(' · '),
            })),
        ),
      )
      .catch((error: unknown) => {
        if (!isAbortError(error)) setOptions([]);
      })
      .finally(() => {
        if (pending.current === controller) setSearching(false);
      });
  };

  return (
    <Select<number>
      id={id}
      data-testid={testId}
      showSearch={{ filterOption: false, onSearch: search }}
      value={value ?? undefined}
      options={options}
      loading={searching}
      placeholder={placeholder}
      onChange={(chosen) => onChange?.(chosen ?? null)}
      allowClear
      style={{ width: '100%' }}
    />
  );
}
