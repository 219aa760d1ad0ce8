"""The SMS channel: the opt-out line in the member's language, and its backends (console, file, an HTTP gateway
faked by a small server on loopback)."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.utils import translation

from marketing import channels
from marketing.channels import Outgoing, SendFailed
from marketing.channels.sms import ConsoleBackend, FileBackend, HttpGatewayBackend, SmsChannel, with_opt_out
from marketing.models import MessageTemplate
from marketing.templating import Rendered, sms_length


def outgoing(n: int = 1, text: str = "Spring sale: 20% off 回T退订", to: str = "+8613900000001") -> Outgoing:
    return Outgoing(message_id=n, key=f"crm-msg-{n}@crm.example.com", to=to, subject="", body=text)


# The opt-out line


def test_chinese_members_get_the_chinese_opt_out():
    assert with_opt_out("【会员店】春季折扣8折", "zh-hans") == "【会员店】春季折扣8折 回T退订"


def test_english_members_get_the_english_opt_out():
    assert with_opt_out("Spring sale: 20% off", "en") == "Spring sale: 20% off Reply STOP to opt out"


def test_the_opt_out_is_not_added_twice():
    assert with_opt_out("春季折扣 回T退订", "zh-hans") == "春季折扣 回T退订"


@override_settings(LANGUAGE_CODE="zh-hans")
def test_no_language_means_the_sites():
    assert with_opt_out("你好", "").endswith("回T退订")


def test_an_unknown_language_falls_back_to_english():
    assert with_opt_out("Hola", "es").endswith("Reply STOP to opt out")


def test_the_opt_out_counts_towards_the_parts():
    # 68 Chinese characters fit one SMS (70); with " 回T退订" it takes two.
    text = "好" * 68
    assert sms_length(text).parts == 1 and sms_length(with_opt_out(text, "zh-hans")).parts == 2


# The channel


def test_the_sms_channel_is_registered():
    channel = channels.get("sms")
    assert isinstance(channel, SmsChannel)
    assert (channel.consent_field, channel.address_field) == ("sms_opt_in", "mobile")


def test_build_appends_the_opt_out_in_the_templates_language():
    rendered = Rendered(subject="ignored", body="  Hi 张伟, 20% off this week \n", html="<p>ignored</p>")
    template = MessageTemplate(language="en", body="Hi {{ name }}, 20% off this week")
    sms = SmsChannel().build(
        message_id=7, to="+8613900000001", rendered=rendered, template=template, unsubscribe_url="https://x/u/t/"
    )
    assert sms.body == "Hi 张伟, 20% off this week Reply STOP to opt out" and sms.subject == "" and sms.html == ""
    assert (sms.message_id, sms.key, sms.to) == (7, "crm-msg-7@localhost", "+8613900000001")
    chinese = MessageTemplate(language="zh-hans", body="{{ name }}您好")
    assert (
        SmsChannel()
        .build(message_id=8, to="+8613900000001", rendered=rendered, template=chinese)
        .body.endswith("回T退订")
    )


def test_build_without_a_template_uses_the_active_language():
    rendered = Rendered(subject="", body="春季折扣", html="")
    with translation.override("zh-hans"):
        sms = SmsChannel().build(message_id=9, to="+8613900000001", rendered=rendered, key="k9")
    assert sms.body == "春季折扣 回T退订" and sms.key == "k9"


def test_the_console_backend_prints_each_sms(capsys):
    with override_settings(CRM_SMS_BACKEND="marketing.channels.sms.ConsoleBackend"):
        results = list(SmsChannel().send([outgoing(1), outgoing(2)]))
    assert [provider_id for _, provider_id in results] == [
        "console:crm-msg-1@crm.example.com",
        "console:crm-msg-2@crm.example.com",
    ]
    assert capsys.readouterr().out.count("SMS to +8613900000001") == 2


def test_the_file_backend_writes_one_file_per_message(tmp_path):
    with override_settings(CRM_SMS_BACKEND="marketing.channels.sms.FileBackend", CRM_SMS_FILE_PATH=tmp_path):
        list(SmsChannel().send([outgoing(1), outgoing(2)]))
        list(SmsChannel().send([outgoing(1)]))  # the same message again: its own file, rewritten
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2
    record = json.loads(files[0].read_text(encoding="utf-8"))
    assert record["to"] == "+8613900000001" and record["text"].endswith("回T退订") and record["key"].startswith("crm-")


def test_console_and_file_backends_take_no_arguments(tmp_path):
    assert isinstance(ConsoleBackend(), ConsoleBackend)
    assert FileBackend(tmp_path).send(outgoing(3)) == "file:crm-msg-3@crm.example.com"


# The HTTP gateway, against a fake gateway on loopback


class FakeGateway:
    """Answers as a gateway would: 200 with an id, or what the text asks for ("answer:503", "answer:slow")."""

    def __init__(self):
        self.requests: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                text = json.dumps(body)  # wherever the body template put the text
                if "answer:slow" in text:
                    time.sleep(1.5)
                status = 200
                for code in (400, 401, 429, 500, 503):
                    if f"answer:{code}" in text:
                        status = code
                answer = {"data": {"id": f"gw-{len(gateway.requests)}"}} if status == 200 else {"error": "nope"}
                if "answer:noid" in text:
                    answer = {"ok": True}
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    fake = FakeGateway()
    yield fake
    fake.close()


def backend_for(gateway: FakeGateway, **kwargs) -> HttpGatewayBackend:
    options = {
        "url": gateway.url,
        "token": "gw-token",
        "body": '{"sender": "CRM", "messages": [{"to": "{to}", "text": "{text}"}], "ref": "{key}"}',
        "id_path": "data.id",
        "timeout": 0.5,
    }
    return HttpGatewayBackend(**(options | kwargs))


def test_the_gateway_gets_the_message_its_key_and_the_token(gateway):
    assert backend_for(gateway).send(outgoing(1)) == "gw-1"
    request = gateway.requests[0]
    assert request["path"] == "/sms/send"
    assert request["headers"]["Idempotency-Key"] == "crm-msg-1@crm.example.com"
    assert request["headers"]["Authorization"] == "Bearer gw-token"
    assert request["body"] == {
        "sender": "CRM",
        "messages": [{"to": "+8613900000001", "text": "Spring sale: 20% off 回T退订"}],
        "ref": "crm-msg-1@crm.example.com",
    }


def test_quotes_braces_and_placeholders_in_the_text_stay_text(gateway):
    text = 'Say "hi" {to} {key} \\ {"x": 1}'
    backend_for(gateway).send(outgoing(1, text=text))
    assert gateway.requests[0]["body"]["messages"][0]["text"] == text


@pytest.mark.parametrize(("code", "permanent"), [(400, True), (401, True), (429, False), (500, False), (503, False)])
def test_gateway_refusals_say_whether_to_try_again(gateway, code, permanent):
    with pytest.raises(SendFailed) as failure:
        backend_for(gateway).send(outgoing(1, text=f"answer:{code}"))
    assert failure.value.permanent is permanent and f"HTTP {code}" in failure.value.reason


def test_a_gateway_that_does_not_answer_in_time_is_a_transient_failure(gateway):
    with pytest.raises(SendFailed) as failure:
        backend_for(gateway).send(outgoing(1, text="answer:slow"))
    assert failure.value.permanent is False


def test_a_gateway_that_is_down_is_a_transient_failure():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = HttpGatewayBackend(url=f"http://127.0.0.1:{port}/", token="", body='{"to": "{to}"}', id_path="id")
    with pytest.raises(SendFailed) as failure:
        backend.send(outgoing(1))
    assert failure.value.permanent is False


def test_an_answer_without_an_id_keeps_the_key_as_the_id(gateway):
    assert backend_for(gateway).send(outgoing(1, text="answer:noid")) == "crm-msg-1@crm.example.com"


def test_the_channel_yields_each_outcome_and_goes_on_after_a_refusal(gateway):
    settings = {
        "CRM_SMS_BACKEND": "marketing.channels.sms.HttpGatewayBackend",
        "CRM_SMS_GATEWAY_URL": gateway.url,
        "CRM_SMS_GATEWAY_TOKEN": "t",
        "CRM_SMS_GATEWAY_BODY": '{"to": "{to}", "text": "{text}"}',
        "CRM_SMS_GATEWAY_ID_PATH": "data.id",
        "CRM_SMS_GATEWAY_TIMEOUT": 2,
    }
    with override_settings(**settings):
        results = list(SmsChannel().send([outgoing(1), outgoing(2, text="answer:400"), outgoing(3)]))
    assert [o.message_id for o, _ in results] == [1, 2, 3]
    assert results[0][1] == "gw-1" and isinstance(results[1][1], SendFailed) and results[2][1] == "gw-3"


def test_a_gateway_url_must_be_http():
    with pytest.raises(ValueError):
        HttpGatewayBackend(url="file:///etc/passwd", token="", body="{}", id_path="id")


def test_a_misconfigured_sms_backend_is_reported_at_start():
    from marketing.checks import sms_settings_check

    assert sms_settings_check(None) == []
    with override_settings(CRM_SMS_BACKEND="marketing.channels.sms.NoSuchBackend"):
        assert [e.id for e in sms_settings_check(None)] == ["marketing.E001"]
    gateway = {"CRM_SMS_BACKEND": "marketing.channels.sms.HttpGatewayBackend"}
    with override_settings(**gateway, CRM_SMS_GATEWAY_URL="", CRM_SMS_GATEWAY_BODY='{"to": "{to}"'):
        assert [e.id for e in sms_settings_check(None)] == ["marketing.E002", "marketing.E003"]
    with override_settings(**gateway, CRM_SMS_GATEWAY_URL="https://sms.example.com/send"):
        assert sms_settings_check(None) == []


@pytest.mark.django_db
def test_a_members_sms_from_template_to_file(tmp_path):
    from customers.tests.factories import CustomerFactory
    from marketing import rendering
    from marketing.tests.tracking_helpers import make_campaign

    campaign = make_campaign(channel="sms")
    variant = campaign.variants.get()
    MessageTemplate.objects.create(variant=variant, language="zh-hans", body="{{ name }}您好，春季会员日8折")
    MessageTemplate.objects.create(variant=variant, language="en", body="Hi {{ name }}, 20% off on member day")
    member = CustomerFactory(name="王芳", language="zh-hans", mobile="+8613900000002")
    template = rendering.template_for(variant, rendering.member_language(member))
    rendered = rendering.render_for(template, member)
    sms = channels.get("sms").build(message_id=41, to=member.mobile, rendered=rendered, template=template)
    with override_settings(CRM_SMS_BACKEND="marketing.channels.sms.FileBackend", CRM_SMS_FILE_PATH=tmp_path):
        [(_, provider_id)] = list(channels.get("sms").send([sms]))
    assert provider_id == "file:crm-msg-41@localhost"
    record = json.loads(next(tmp_path.iterdir()).read_text(encoding="utf-8"))
    assert record == record | {"to": "+8613900000002", "text": "王芳您好，春季会员日8折 回T退订"}
