"""Schedules: ``schedule`` events and provisioned-concurrency schedules, fired on time.

- ``timetable``  the pure next-fire function (rate, AWS cron, Unix cron; time zones, DST)
"""
