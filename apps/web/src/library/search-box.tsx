import { useEffect, useState } from 'react';

const DEBOUNCE_MS = 250;

/** A search field that reports what was typed once typing pauses, and follows the URL when it changes (back). */
export function SearchBox({ value, onSearch }: { value: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(value);
  const [shown, setShown] = useState(value);
  if (value !== shown) {
    setShown(value);
    setText(value);
  }
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => onSearch(text.trim()), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, value, onSearch]);
  return (
    <label className="search-box">
      <span className="sr-only">Search adapters</span>
      <input
        type="search"
        placeholder="Search name, trigger words, tags…"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
    </label>
  );
}
