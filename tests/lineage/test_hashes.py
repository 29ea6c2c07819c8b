"""Job hashes read from what the relay sends: every UUID, wherever its digits are;
never a word or a button's other parts."""

import pytest

from tasks_app.lineage.hashes import hash_in, own_hash

UUIDS = [
    "0cd4f2b1-7a3e-4c55-9d2f-6b1e8a0c4d2e",
    "deadbeef-abcd-4bcd-8bcd-abcdefabcdef",  # no digit before the first dash
    "abcdefab-cdef-abcd-abcd-abcdefabcde1",  # one digit, at the very end
]


@pytest.mark.parametrize("job_hash", UUIDS)
def test_every_uuid_is_a_job_hash_in_each_kind_of_custom_id(job_hash):
    for custom_id in (
        f"MJ::JOB::upsample::2::{job_hash}",
        f"MJ::JOB::variation::1::{job_hash}::SOLO",
        f"MJ::Outpaint::50::1::{job_hash}::SOLO",
        f"MJ::JOB::pan_left::1::{job_hash}::SOLO",
        f"MJ::JOB::reroll::0::{job_hash}::SOLO",
    ):
        assert hash_in(custom_id) == job_hash, custom_id
    buttons = [{"customId": f"MJ::JOB::upsample::{n}::{job_hash}"} for n in range(1, 5)]
    assert own_hash(properties={}, buttons=buttons) == job_hash
    assert own_hash(properties={"messageHash": job_hash}, buttons=[]) == job_hash


@pytest.mark.parametrize(
    "custom_id",
    [
        "MJ::JOB::upsample_v6_2x_subtle::1::SOLO",  # no hash at all
        "MJ::JOB::variation::1::abcdefabcdefabcdefabcdefabcd::SOLO",  # a long word: no digit
        # two hashes: which one is the parent is not known
        "MJ::Inpaint::1::0cd4f2b1-7a3e-4c55-9d2f-6b1e8a0c4d2e::deadbeef-abcd-4bcd-8bcd-abcdefabcdef",
        "not a custom id 0cd4f2b1-7a3e-4c55-9d2f-6b1e8a0c4d2e",
        None,
    ],
)
def test_what_is_not_one_job_hash_gives_none(custom_id):
    assert hash_in(custom_id) == ""
