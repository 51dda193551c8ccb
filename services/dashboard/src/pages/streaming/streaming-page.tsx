/** The streaming dashboard (operators): status bar, input, preview, destinations and their commands. */
import { useEffect, useState } from 'preact/hooks';
import { ProblemView } from '../../components/common.tsx';
import { loadPlatforms } from '../../state/catalog.ts';
import { commandAll, destinationIds, entries, loaded, loadProblem } from '../../state/live.ts';
import { DestinationCard } from './destination-card.tsx';
import { DestinationForm } from './destination-form.tsx';
import { BackupInputCard } from './backup-input-card.tsx';
import { IngestCard } from './ingest-card.tsx';
import { Preview } from './preview.tsx';
import { StatusBar } from './status-bar.tsx';

let renderedMarked = false;

function DestinationList() {
  const ids = destinationIds.value;
  useEffect(() => {
    // For the bench: the first time the list is on screen after the destinations were read.
    if (!renderedMarked && loaded.value) {
      renderedMarked = true;
      performance.mark('fanout:destinations-rendered', { detail: { count: ids.length } });
    }
  });
  if (!loaded.value)
    return loadProblem.value ? (
      <ProblemView problem={loadProblem.value} title="The destinations could not be read" />
    ) : (
      <p class="muted" role="status">
        Loading destinations…
      </p>
    );
  if (ids.length === 0) return <p class="empty">No destinations yet. Add one to send the feed to a platform.</p>;
  return (
    <div class="dest-grid">
      {ids.map((id) => {
        const e = entries.get(id);
        return e ? <DestinationCard key={id} entry={e} /> : null;
      })}
    </div>
  );
}

export function StreamingPage() {
  const [adding, setAdding] = useState(false);
  const [bulk, setBulk] = useState<'start' | 'stop' | null>(null);
  // Platform names for the cards (and the form); a failure leaves the ids shown.
  useEffect(() => void loadPlatforms().catch(() => undefined), []);
  const all = async (what: 'start' | 'stop'): Promise<void> => {
    setBulk(what);
    try {
      await commandAll(what);
    } finally {
      setBulk(null);
    }
  };
  return (
    <>
      <h1 class="page-title">Streaming</h1>
      <StatusBar />
      <div class="top-grid">
        <IngestCard />
        <BackupInputCard />
        <Preview />
      </div>
      <section aria-labelledby="destinations-title">
        <div class="section-head">
          <h2 id="destinations-title">Destinations</h2>
          <div class="actions">
            <button type="button" class="btn" disabled={bulk !== null || destinationIds.value.length === 0} onClick={() => void all('start')}>
              {bulk === 'start' ? 'Starting all…' : 'Start all'}
            </button>
            <button type="button" class="btn" disabled={bulk !== null || destinationIds.value.length === 0} onClick={() => void all('stop')}>
              {bulk === 'stop' ? 'Stopping all…' : 'Stop all'}
            </button>
            <button type="button" class="btn btn-primary" aria-expanded={adding} onClick={() => setAdding(!adding)}>
              Add destination
            </button>
          </div>
        </div>
        {adding ? <DestinationForm onDone={() => setAdding(false)} /> : null}
        <DestinationList />
      </section>
    </>
  );
}
