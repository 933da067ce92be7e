Code.require_file("../T.exs", __DIR__)

T.main(fn ->
  {:ok, agent} = Agent.start(fn -> 1 end)
  try do
    Agent.get(agent, fn s -> Process.sleep(300); s end, 100)
  catch
    :exit, r -> T.out("timeout", r)
  end
  ref = Process.monitor(agent)
  try do
    Agent.get(agent, fn _ -> raise "agent fun" end)
  catch
    :exit, {r, _} -> T.out("crash", r)
  end
  receive do {:DOWN, ^ref, _, _, r} -> T.out("down", r) end
end)
T.done()
