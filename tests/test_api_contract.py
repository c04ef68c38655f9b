"""The API against its own OpenAPI schema, on a live server: Schemathesis reads /api/v1/schema/,
generates requests for every operation (valid and invalid parameters alike) and checks each
answer: no 5xx, a documented status, the documented content type and headers, a body that
matches the schema, invalid input refused and valid input accepted.

A few examples per operation keep it to seconds; the catalogue behind it holds a published
paper with a correction, a withdrawn paper and a draft, so lists are not empty."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from papers import workflow
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, TagFactory, approved

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api_schema(live_server, editor, settings):
    settings.STANDPOINT_API_RATE = "100000/min"  # the throttle has tests of its own
    nato = TagFactory(slug="nato", name="NATO")
    paper = PaperFactory(slug="forward-defence")
    paper.tags.set([nato])
    section = SectionFactory(paper=paper)
    ClaimFactory(section=section).tags.set([nato])
    workflow.publish_paper(approved(paper), by=editor)
    section.body += " Sweden joined NATO in 2024."
    section.save()
    workflow.publish_correction(paper, by=editor, note="Added Sweden.")
    gone = PaperFactory(slug="withdrawn")
    ClaimFactory(section=SectionFactory(paper=gone), kind="predictive")
    workflow.publish_paper(approved(gone), by=editor)
    workflow.withdraw_paper(gone, by=editor, reason="Wrong data.")
    ClaimFactory(section=SectionFactory(paper=PaperFactory(slug="a-draft")))
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/")


def test_every_operation_keeps_to_the_schema(api_schema):
    # Each operation drawn from the schema, run as its own Hypothesis test (schemathesis's
    # pytest fixture loader does not run under the pytest we use).
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 7
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def keeps_to_the_schema(case):
            case.call_and_validate()

        keeps_to_the_schema()
