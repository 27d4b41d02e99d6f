"""Test doubles that speak the real wire protocols of what Centrex talks to.

`freeswitch.FakeFreeSWITCH` is FreeSWITCH's event socket (mod_event_socket, inbound
mode) on a real TCP socket. Fakes may import other test modules and `xmlcurl.fsnames`,
never application code that would make them agree with the code under test by
construction.
"""
