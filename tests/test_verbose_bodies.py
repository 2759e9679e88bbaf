"""`-v 8` prints the bodies of API requests and responses, as kubectl's -v=8 does (client-go logs "Request Body" and
"Response Body", a response cut at 1024 characters with "[truncated N chars]" at -v=8, at 10240 at -v=9, whole
from -v=10), except Secret data: neither the values nor a last-applied copy of them ever appear."""

import base64

from tests.move_run_support import SECRET_VALUE, run_move, seed_basic


def test_v8_shows_request_and_response_bodies_with_secret_data_redacted(kubesim, capsys):
    seed_basic(kubesim)
    code, out, err = run_move(kubesim, capsys, "-v", "8", "run", "-n", "src", "--to", "dst", "--all", "--yes",
                              "--move-id", "v8")
    assert code == 0, err[-2000:]
    assert "Request Body: {" in err and "Response Body: {" in err
    assert '"kind":"Secret"' in err.replace(" ", "") or '"kind": "Secret"' in err    # Secrets were copied...
    assert SECRET_VALUE not in err                                                     # ...their data never shown
    assert base64.b64encode(SECRET_VALUE.encode()).decode() not in err
    assert "[truncated" in err                                                         # long bodies cut, as kubectl


def test_v6_shows_requests_without_bodies(kubesim, capsys):
    seed_basic(kubesim)
    code, out, err = run_move(kubesim, capsys, "-v", "6", "status")
    assert code == 0, err
    assert "GET https://" in err or "GET http://" in err
    assert "Response Body" not in err and "Request Body" not in err


def test_v10_shows_whole_bodies(kubesim, capsys):
    seed_basic(kubesim)
    code, out, err = run_move(kubesim, capsys, "-v", "10", "plan", "-n", "src", "--to", "dst", "--all")
    assert "Response Body: {" in err and "[truncated" not in err
    assert SECRET_VALUE not in err and base64.b64encode(SECRET_VALUE.encode()).decode() not in err
