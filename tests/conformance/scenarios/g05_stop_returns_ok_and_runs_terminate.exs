Code.require_file("../T.exs", __DIR__)
defmodule Stack do
  use GenServer
  def init(arg), do: {:ok, arg}
  def handle_call(:pop, _from, [h | t]), do: {:reply, h, t}
  def handle_call(:state, _from, s), do: {:reply, s, s}
  def handle_call({:sleep, ms}, _from, s), do: (Process.sleep(ms); {:reply, :late, s})
  def handle_call(:crash, _from, _s), do: raise("call crash")
  def handle_call(:stop_reply, _from, s), do: {:stop, :normal, :bye, s}
  def handle_call(:bad, _from, _s), do: :oops
  def handle_cast({:push, x}, s), do: {:noreply, [x | s]}
  def handle_info(msg, s), do: (T.out("info", msg); {:noreply, s})
  def terminate(reason, _s), do: T.out("terminate", reason)
end
T.main(fn ->
  {:ok, pid} = GenServer.start(Stack, [])
  T.out("stop", GenServer.stop(pid, :shutdown))
  T.out("alive", Process.alive?(pid))
  try do GenServer.stop(pid) catch :exit, r -> T.out("again", r) end
end)
T.done()
