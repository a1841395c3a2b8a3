import type { VerificationStep } from '../api/types.ts';
import { duration } from '../state/format.ts';
import { ErrorDetails } from './ErrorDetails.tsx';

export function VerificationSteps({ steps }: { steps: VerificationStep[] }) {
  return (
    <ol class="steps">
      {steps.map((step) => (
        <li key={step.name} class={step.ok ? 'ok' : 'bad'} data-step={step.name}>
          <span class="step-mark" aria-label={step.ok ? 'passed' : 'failed'}>
            {step.ok ? '✓' : '✗'}
          </span>
          <strong>{step.name}</strong> <span class="muted">{duration(step.durationMs)}</span>
          {step.error?.message !== step.detail && <div class="step-detail">{step.detail}</div>}
          {step.error && <ErrorDetails error={step.error} />}
        </li>
      ))}
    </ol>
  );
}
