"""Lineage from the relay's own data: a family whose buttons were pressed
outside the dashboard (tasks made directly in the simulator) is linked and
shown as a tree, in a bounded number of queries."""

import importlib

import pytest
from django.apps import apps

from tasks_app import services
from tasks_app.lineage import selectors as lineage
from tasks_app.models import Task, TaskImage
from tasks_app.simulator.tasks import job_hash

pytestmark = pytest.mark.django_db


def make_family(sim):
    """grid → U2 upscale → {Vary (Strong) grid → U3 upscale → pan left, Zoom Out 2x}; all finished."""
    add = sim.add_task
    grid = add(prompt="a kite", run=1.0, queued=0.0, ago=600)
    up = add(
        action="UPSCALE", parent_id=grid, customId=f"MJ::JOB::upsample::2::{job_hash(grid)}", run=1.0, ago=500
    )
    vary = add(
        action="VARIATION",
        parent_id=up,
        customId=f"MJ::JOB::variation::1::{job_hash(up)}::SOLO",
        run=1.0,
        ago=400,
    )
    zoom = add(
        action="ZOOM", parent_id=up, customId=f"MJ::Outpaint::50::1::{job_hash(up)}::SOLO", run=1.0, ago=300
    )
    up3 = add(
        action="UPSCALE", parent_id=vary, customId=f"MJ::JOB::upsample::3::{job_hash(vary)}", run=1.0, ago=200
    )
    pan = add(
        action="PAN", parent_id=up3, customId=f"MJ::JOB::pan_left::1::{job_hash(up3)}::SOLO", run=1.0, ago=100
    )
    sim.clock.advance(60)
    return {"grid": grid, "up": up, "vary": vary, "zoom": zoom, "up3": up3, "pan": pan}


def parents():
    return dict(Task.objects.values_list("pk", "parent_id"))


def test_children_read_before_their_parents_and_after_are_linked_by_the_relays_hashes(simulator, jobs_held):
    f = make_family(simulator)
    loner = simulator.add_task(prompt="unrelated", run=1.0, queued=0.0, ago=50)
    simulator.clock.advance(60)

    services.task_lookup(ids=[f["pan"], f["up3"]])  # the youngest first: no parent known yet
    assert parents() == {f["pan"]: f["up3"], f["up3"]: None}
    services.task_lookup(ids=[f["grid"], loner])
    services.task_lookup(ids=[f["vary"], f["zoom"], f["up"]])  # the middle links both ways

    assert parents() == {
        f["grid"]: None,
        loner: None,
        f["up"]: f["grid"],
        f["vary"]: f["up"],
        f["zoom"]: f["up"],
        f["up3"]: f["vary"],
        f["pan"]: f["up3"],
    }
    labels = dict(Task.objects.values_list("pk", "pressed_label"))
    # What the parent's button said, read from the parent's buttons.
    assert labels[f["up"]] == "U2"
    assert labels[f["vary"]] == "🪄 Vary (Strong)"
    assert labels[f["zoom"]] == "🔍 Zoom Out 2x"
    assert labels[f["pan"]] == "⬅️"


def test_the_detail_page_shows_the_whole_family_as_a_tree_in_bounded_queries(
    simulator, logged_in, django_assert_max_num_queries, jobs_held
):
    f = make_family(simulator)
    services.task_lookup(ids=list(f.values()))

    with django_assert_max_num_queries(30):
        page = logged_in.get(f"/tasks/{f['up3']}/").content.decode()

    tree = page[page.index('class="family-tree"') :]
    tree = tree[: tree.index("</nav>")]
    order = [tree.index(f'<span class="tree-id">{task_id}</span>') for task_id in f.values()]
    # Depth first from the grid: grid, U2, vary, U3, pan; then the zoom beside vary.
    by_position = sorted(f, key=lambda name: order[list(f).index(name)])
    assert by_position == ["grid", "up", "vary", "up3", "pan", "zoom"]
    assert 'aria-current="page"><span class="tree-action">UPSCALE</span> <span class="tree-button">U3' in tree
    for name in ("grid", "up", "vary", "zoom", "pan"):
        assert f'href="/tasks/{f[name]}/"' in tree
    assert f'href="/tasks/{f["up3"]}/"' not in tree  # the page itself is marked, not linked
    assert tree.count("<ul") == 5  # grid > up > {vary > up3 > pan, zoom}: five nested lists


def test_the_family_costs_one_query_a_generation_whatever_its_width(
    simulator, django_assert_num_queries, jobs_held
):
    grid = simulator.add_task(prompt="wide", run=1.0, queued=0.0, ago=600)
    ups = [
        simulator.add_task(
            action="UPSCALE", customId=f"MJ::JOB::upsample::{n % 4 + 1}::{job_hash(grid)}", run=1.0, ago=500
        )
        for n in range(40)
    ]
    simulator.clock.advance(60)
    services.task_lookup(ids=[grid, *ups])
    leaf = Task.objects.get(pk=ups[-1])

    with django_assert_num_queries(3):  # up to the grid; its children; theirs (none)
        family = lineage.task_family(task=leaf)

    assert family.size == 41 and len(family.root.children) == 40 and not family.cut


def test_a_loop_of_parents_in_bad_data_ends(db):
    a, b = "1760000000000001", "1760000000000002"
    Task.objects.create(pk=a)
    Task.objects.create(pk=b, parent_id=a)
    Task.objects.filter(pk=a).update(parent_id=b)

    family = lineage.task_family(task=Task.objects.get(pk=a))

    assert family.size == 2


def test_a_vary_region_form_pressed_elsewhere_draws_on_its_parents_image(simulator, logged_in, user):
    user.is_staff = True  # may press
    user.save()
    f = make_family(simulator)
    modal = simulator.add_task(
        action="INPAINT",
        status="MODAL",
        parent_id=f["up"],
        customId=f"MJ::Inpaint::1::{job_hash(f['up'])}::SOLO",
    )
    services.task_lookup(ids=[f["up"], modal])
    assert TaskImage.objects.filter(task_id=f["up"], state="ok").exists()  # archived by the job

    page = logged_in.get(f"/tasks/{modal}/").content.decode()

    assert "data-mask-editor" in page
    assert f'src="/tasks/{f["up"]}/image"' in page
    assert 'name="width" class="mask-width" value="1024"' in page  # the upscale's archived size


def test_the_migration_reads_hashes_out_of_stored_payloads(simulator, jobs_held):
    f = make_family(simulator)
    services.task_lookup(ids=list(f.values()))
    Task.objects.update(job_hash="", parent_hash="", parent=None, pressed_custom_id="")
    migration = importlib.import_module("tasks_app.migrations.0013_task_hashes")

    migration.hashes_from_payloads(apps, None)

    assert parents()[f["pan"]] == f["up3"] and parents()[f["up"]] == f["grid"]
    assert Task.objects.get(pk=f["grid"]).job_hash == job_hash(f["grid"])
    assert (
        Task.objects.get(pk=f["zoom"]).pressed_custom_id == f"MJ::Outpaint::50::1::{job_hash(f['up'])}::SOLO"
    )
