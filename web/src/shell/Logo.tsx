// The product mark: a shield holding a heart, drawn for a dark (blue) background.
export function Logo({ size = 26 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" style={{ flex: 'none' }}>
      <path d="M16 2 4 6.5v8.2C4 22.3 9.1 28.3 16 30c6.9-1.7 12-7.7 12-15.3V6.5z" fill="#fff" />
      <path
        d="M16 9.5c-1.6-2-5.3-1.6-5.3 1.6 0 3 3.6 5.2 5.3 6.9 1.7-1.7 5.3-3.9 5.3-6.9 0-3.2-3.7-3.6-5.3-1.6z"
        fill="#1a4d8f"
      />
      <path d="M10 21.5h12" stroke="#1a4d8f" strokeWidth="2" strokeLinecap="round" />
    </svg>
  );
}
