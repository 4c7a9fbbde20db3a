"""The exam-day rehearsal (`make rehearsal`): the scale-out stack on one machine, a scripted day of bots, faults
injected while it runs, and the invariants checked at the end. See docs/rehearsal.md."""
