import { useState } from 'react';
import { previewUrl } from '../api/urls';
import { useSettings } from '../app/settings';

interface PreviewProps {
  adapter: { id: string; name: string; hasPreview: boolean; nsfwMax: number };
  size: number;
  className?: string;
}

/** An adapter's preview, lazy-loaded, blurred when its NSFW level is at or above the browser's threshold. */
export function AdapterPreview({ adapter, size, className }: PreviewProps) {
  const [settings] = useSettings();
  const [revealed, setRevealed] = useState(false);
  const [failed, setFailed] = useState(false);
  const sensitive = settings.blurNsfw && adapter.nsfwMax >= settings.blurFrom;
  if (!adapter.hasPreview || failed) {
    return (
      <div className={`preview-empty ${className ?? ''}`} style={{ height: size }} aria-hidden="true">
        no preview
      </div>
    );
  }
  return (
    <div className={`preview ${className ?? ''}`} style={{ height: size }}>
      <img
        src={previewUrl(adapter.id)}
        alt={`Preview of ${adapter.name}`}
        loading="lazy"
        decoding="async"
        height={size}
        className={sensitive && !revealed ? 'blurred' : undefined}
        onError={() => setFailed(true)}
      />
      {sensitive && !revealed && (
        <button type="button" className="reveal" onClick={() => setRevealed(true)}>
          Show NSFW preview
        </button>
      )}
    </div>
  );
}
