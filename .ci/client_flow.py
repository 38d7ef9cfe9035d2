"""A short flow through a client generated from the OpenAPI document
(openapi-python-client): register, log in, add a paper, search, book.
Run by .ci/fuzz-api as `python3 client_flow.py BASE RESEARCHER_ID` with the
generated package `client` on the path. Exits non-zero on any surprise."""

import sys
import uuid

from client import AuthenticatedClient, Client
from client.api.auth import login, register
from client.api.consulting import availability_get, book
from client.api.papers import papers_create, search
from client.models import AuthorRequest, BookBody, LoginRequest, PaperRequest, RegisterRequest

base, researcher_id = sys.argv[1], int(sys.argv[2])
anonymous = Client(base_url=base)
email = f"client-{uuid.uuid4().hex[:8]}@example.org"
password = "a generated client passphrase"

r = register.sync_detailed(
    client=anonymous,
    body=RegisterRequest(email=email, password=password, name="Client Flow", accept_terms=True),
)
assert r.status_code in (201, 202), (r.status_code, r.content)
tokens = login.sync(client=anonymous, body=LoginRequest(email=email, password=password))
assert getattr(tokens, "access_token", None), tokens
me = AuthenticatedClient(base_url=base, token=tokens.access_token)

title = f"Generated clients read documents {uuid.uuid4().hex[:6]}"
paper = papers_create.sync(
    client=me,
    body=PaperRequest(title=title, authors=[AuthorRequest(name="Ada Lovelace")]),
)
assert getattr(paper, "id", None), paper
found = search.sync(client=anonymous, q=title.split()[0])
assert any(p.id == paper.id for p in found.items), found

slots = availability_get.sync(client=me, researcher_id=researcher_id, duration=30)
assert slots.slots, slots
session = book.sync(
    client=me,
    body=BookBody(
        researcher_id=researcher_id,
        start=slots.slots[0].start,
        duration_minutes=30,
        topic="Booked through a generated client",
    ),
)
assert getattr(session, "id", None), session
print(f"generated client: registered {email}, added paper {paper.id}, found it, booked session {session.id}")
