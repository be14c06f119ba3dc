"""Broadcast (抢单): the request is open to every eligible volunteer in reach; first N win."""
