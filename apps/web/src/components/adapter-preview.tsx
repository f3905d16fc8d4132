import { useState } from 'react';
import { previewUrl, type ThumbnailSize } from '../api/urls';
import { useSettings } from '../app/settings';

interface PreviewProps {
  adapter: { id: string; name: string; hasPreview: boolean; nsfwMax: number };
  size: number;
  /** Load the API's WebP thumbnail of this size; falls back to the file itself (a video, say) when it has none. */
  thumbnail?: ThumbnailSize;
  className?: string;
}

/** An adapter's preview, lazy-loaded, blurred when its NSFW level is at or above the browser's threshold. */
export function AdapterPreview({ adapter, size, thumbnail, className }: PreviewProps) {
  const [settings] = useSettings();
  const [revealed, setRevealed] = useState(false);
  const [failed, setFailed] = useState(false);
  const [original, setOriginal] = useState(thumbnail === undefined);
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
        src={previewUrl(adapter.id, original ? undefined : thumbnail)}
        alt={`Preview of ${adapter.name}`}
        loading="lazy"
        decoding="async"
        height={size}
        className={sensitive && !revealed ? 'blurred' : undefined}
        onError={() => (original ? setFailed(true) : setOriginal(true))}
      />
      {sensitive && !revealed && (
        <button type="button" className="reveal" onClick={() => setRevealed(true)}>
          Show NSFW preview
        </button>
      )}
    </div>
  );
}
