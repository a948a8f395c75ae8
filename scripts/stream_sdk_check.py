"""DingTalk's official Python Stream SDK against the mock's gateway.

Run by tests/tests/stream_sdk.rs with DINGTALK_OPENAPI_ENDPOINT pointing at the mock: the
SDK opens a connection, receives the events the test pushes, and acknowledges them its
own way. Prints one line per event it handled.
"""
import asyncio
import os
import sys

import dingtalk_stream


class Handler(dingtalk_stream.EventHandler):
    async def process(self, event: dingtalk_stream.EventMessage):
        print(f"event {event.headers.event_type} {event.headers.message_id} {event.data}", flush=True)
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"


def main():
    credential = dingtalk_stream.Credential(os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"])
    client = dingtalk_stream.DingTalkStreamClient(credential)
    client.register_all_event_handler(Handler())
    print("starting", dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API, flush=True)
    asyncio.run(client.start())


if __name__ == "__main__":
    sys.exit(main())
