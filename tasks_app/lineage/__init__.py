"""Lineage from the relay's own data: which task a button of which task started.

A Midjourney job has a hash (a UUID) that every button of its message carries
(`MJ::JOB::upsample::2::<hash>`) and that newer relays also put in
`properties.messageHash`. A follow-up task's own `customId` is the button that
started it, so it carries its parent's hash. Stored as Task.job_hash and
Task.parent_hash, the two link parent and children whichever tool pressed the
button (hashes.py reads them, services.py links, selectors.py reads the family).
"""
