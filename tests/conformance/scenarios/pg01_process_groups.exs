Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  me = self()
  T.out("before start", :pg.get_members(:g))
  {:ok, _} = :pg.start_link()
  p1 = spawn(&T.wait_forever/0)
  T.out("join", :pg.join(:g, me))
  T.out("join list", :pg.join(:g, [p1, me]))
  T.out("members", :pg.get_members(:g) == [p1, me, me])
  T.out("local", :pg.get_local_members(:g) == [p1, me, me])
  T.out("groups", :pg.which_groups())
  T.out("local groups", :pg.which_local_groups())
  T.out("none", :pg.get_members(:nobody))
  {ref, groups} = :pg.monitor_scope()
  T.out("scope", groups == %{g: [p1, me, me]})
  {gref, members} = :pg.monitor(:h)
  T.out("h members", members)
  T.out("leave", :pg.leave(:g, me))
  T.out("members", :pg.get_members(:g) == [p1, me])
  T.out("not joined", :pg.leave(:nope, me))
  T.out("join h", :pg.join(:h, p1))
  Process.exit(p1, :kill)
  T.settle()
  events =
    for _ <- 1..7 do
      receive do
        {r, action, group, pids} ->
          {if(r == ref, do: :scope, else: :group), action, group, pids == [me] or pids == [p1]}
      after 0 -> :none
      end
    end
  T.out("events", events)
  T.out("after death", {:pg.get_members(:g) == [me], :pg.get_members(:h)})
  T.out("groups", :pg.which_groups())
  T.out("demonitor", :pg.demonitor(ref))
  T.out("demonitor again", :pg.demonitor(ref))
  T.out("demonitor group", :pg.demonitor(gref))
  T.out("leave list", :pg.leave(:g, [me]))
  T.out("empty", {:pg.which_groups(), :pg.which_local_groups()})
  {:ok, _} = :pg.start_link(:other)
  T.out("other scope", {:pg.join(:other, :g, me), :pg.get_members(:other, :g) == [me], :pg.get_members(:g)})
end)
T.done()
