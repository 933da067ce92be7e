Code.require_file("../T.exs", __DIR__)

T.main(fn ->
  {:ok, agent} = Agent.start_link(fn -> 0 end)
  T.out("get", Agent.get(agent, fn s -> s end))
  T.out("update", Agent.update(agent, fn s -> s + 1 end))
  T.out("get_and_update", Agent.get_and_update(agent, fn s -> {s, s * 10} end))
  T.out("cast", Agent.cast(agent, fn s -> s + 5 end))
  T.out("get", Agent.get(agent, fn s -> s end))
  T.out("stop", Agent.stop(agent))
  try do Agent.get(agent, fn s -> s end) catch :exit, {r, _} -> T.out("dead", r) end
end)
T.done()
