"""Team dispatch: the request is offered to a team, its leader assigns members, who still accept."""
