// The script-tag entry: `<script src="omnikit.js" data-endpoint data-key async></script>`.
// Import order is evaluation order: boot.js creates and provides the client before the define
// module registers the elements (and so upgrades the ones already in the page).
import { booted } from './boot.js';
import { defineElements } from '@omnikit/elements/define';
import { claimPageHandoff } from './handoff.js';

// A no-op when the define module registered everything already.
defineElements();
if (booted) {
  document.dispatchEvent(new CustomEvent('omnikit:ready', { detail: booted }));
  void claimPageHandoff(booted.client);
}
